"""Sweep levers: a scenario lever with its value left open, applied on top of a scenario.

:func:`apply_lever` returns the scenario with the lever set to a value — a price change
or a window *added* to the scenario's own (so a sweep acts on top of the base scenario,
as a second window multiplies with the first), an elasticity or the discount rate
*replacing* the scenario's value for the segments it names. The scenario is then
validated like any scenario of a config, and compiled like one (:mod:`simcore.scenarios`).
"""

from __future__ import annotations

from simcore.config.scenarios import ScenarioConfig
from simcore.config.sensitivity import LEVER_KINDS, SweepLever

_WINDOWS = ("churn_multiplier", "acquisition_multiplier", "expansion_multiplier", "contraction_multiplier")
_CHANGES = ("cac_change", "cost_to_serve_change", "gross_margin_change")
_ELASTICITIES = ("price_elasticity_of_churn", "price_elasticity_of_acquisition")


def apply_lever(scenario: ScenarioConfig, lever: SweepLever, value: float) -> ScenarioConfig:
    """``scenario`` with ``lever`` set to ``value`` (see the module notes).

    Raises
    ------
    pydantic.ValidationError
        When the value makes the scenario invalid (callers check the lever's range first).
    """
    data = scenario.model_dump(exclude_unset=True)
    kind = lever.lever
    where = {"segments": lever.segments} if lever.segments is not None else {}
    when = {"months": list(lever.months)} if lever.months is not None else {}
    if kind == "price_change":
        change = {"pct": _fraction(value), "applies_to": lever.applies_to, **where, **when}
        if lever.from_month is not None:
            change["from_month"] = lever.from_month
        data["price_change"] = [*_dumped(scenario, kind), change]
    elif kind in _ELASTICITIES:
        entry = {"elasticity": value, **where}
        if kind == "price_elasticity_of_churn" and lever.shock_months is not None:
            entry["shock_months"] = lever.shock_months
        data[kind] = [*_dumped(scenario, kind), entry]
    elif kind in _WINDOWS:
        data[kind] = [*_dumped(scenario, kind), {"factor": value, **where, **when}]
    elif kind in _CHANGES:
        data[kind] = [*_dumped(scenario, kind), {"pct": _fraction(value), **where, **when}]
    elif kind == "discount_rate_annual":
        data[kind] = value
    else:  # pragma: no cover - the config schema lists every kind
        raise ValueError(f"unknown sweep lever {kind!r}")
    return ScenarioConfig.model_validate(data)


def _fraction(value: float):
    """A fraction as the config accepts it: a bare number within [-1, 1], else "x%" (a bare
    1.25 is refused as a likely typo for 1.25%)."""
    return float(value) if abs(value) <= 1.0 else f"{value * 100.0:.17g}%"


def _dumped(scenario: ScenarioConfig, field: str) -> list[dict]:
    return [item.model_dump(exclude_unset=True) for item in getattr(scenario, field)]


def apply_levers(scenario: ScenarioConfig, settings) -> ScenarioConfig:
    """``scenario`` with every ``(lever, value)`` of ``settings`` applied in order."""
    for lever, value in settings:
        scenario = apply_lever(scenario, lever, value)
    return scenario


def lever_unit(lever: SweepLever) -> str:
    """The unit of a lever's values, in words."""
    return LEVER_KINDS[lever.lever][0]


def is_fraction(lever: SweepLever) -> bool:
    """Values shown as percentages (price, CAC, cost and margin changes, the discount rate)."""
    return lever.lever in ("price_change", "cac_change", "cost_to_serve_change", "gross_margin_change",
                           "discount_rate_annual")


def format_value(lever: SweepLever, value: float) -> str:
    """A lever value as finance reads it: ``+10%``, ``x1.25``, ``0.8``."""
    if is_fraction(lever):
        return f"{value:+.1%}".replace(".0%", "%") if lever.lever != "discount_rate_annual" else f"{value:.1%}"
    if lever.lever in _WINDOWS:
        return f"x{value:.3g}"
    return f"{value:.3g}"
