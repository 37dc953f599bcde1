"""The rules every economic number must obey, each written once.

Config validation, the scenario checks made before anything is fitted, and the compile
step all ask these functions, so a rule and its message never drift apart.
"""

from __future__ import annotations

#: Tolerance for sums of probabilities and fractions computed in floating point.
TOLERANCE = 1e-12


def fraction_problem(name: str, value: float) -> str | None:
    """A fraction of revenue (gross margin, infrastructure share) must lie in [0, 1]."""
    if not -TOLERANCE <= value <= 1.0 + TOLERANCE:
        return f"{name} is a fraction of revenue and must lie between 0% and 100%, got {value:.4g}"
    return None


def non_negative_problem(name: str, value: float) -> str | None:
    """Costs, prices and volumes are amounts >= 0."""
    if value < 0.0:
        return f"{name} must be >= 0, got {value:g}"
    return None


def discount_rate_problem(name: str, value: float) -> str | None:
    """An annual discount rate is a fraction per year above -100%."""
    if value <= -1.0:
        return f"{name} must be above -100% a year, got {value:.4g}"
    return None


def revenue_event_problem(p_expansion: float, p_contraction: float) -> str | None:
    """Expansion and contraction are at most one event a month: p_e, p_c >= 0 and
    p_e + p_c <= 1."""
    if p_expansion < 0.0 or p_contraction < 0.0:
        return "monthly probabilities of expansion and contraction must be >= 0"
    if p_expansion + p_contraction > 1.0 + TOLERANCE:
        return (f"the monthly probabilities of expansion and contraction add up to "
                f"{p_expansion + p_contraction:.3f}; they are probabilities of one event a month "
                "and cannot exceed 1 together")
    return None
