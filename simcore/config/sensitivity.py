"""The ``sensitivity:`` section: named sweep levers and the analyses run over them.

A *sweep lever* is one scenario lever with a value left open (``price_change`` with its
``pct``, ``churn_multiplier`` with its factor, ...), applied on top of the ``base``
scenario; each analysis sets it to values (tornado: ``low`` and ``high``; grids,
solves and Sobol: values or ranges). See :mod:`simcore.sensitivity`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, model_validator

from simcore.config.base import StrictModel, _as_list
from simcore.config.scenarios import (
    LAST_MONTH,
    MAX_ELASTICITY,
    MAX_FACTOR,
    AppliesTo,
    Month,
    Months,
    ScenarioConfig,
    _check_months,
)

#: Sweep levers: kind -> (unit, lowest value, highest value).
LEVER_KINDS: dict[str, tuple[str, float, float]] = {
    "price_change": ("fraction of the list price", -0.95, 10.0),
    "price_elasticity_of_churn": ("elasticity", 0.0, MAX_ELASTICITY),
    "price_elasticity_of_acquisition": ("elasticity", 0.0, MAX_ELASTICITY),
    "churn_multiplier": ("factor on the churn hazard", 0.0, MAX_FACTOR),
    "acquisition_multiplier": ("factor on new customers per month", 0.0, MAX_FACTOR),
    "expansion_multiplier": ("factor on the monthly probability of expansion", 0.0, MAX_FACTOR),
    "contraction_multiplier": ("factor on the monthly probability of contraction", 0.0, MAX_FACTOR),
    "cac_change": ("fraction of CAC", -1.0, MAX_FACTOR),
    "cost_to_serve_change": ("fraction of the cost to serve", -1.0, MAX_FACTOR),
    "gross_margin_change": ("points of gross margin", -1.0, 1.0),
    "discount_rate_annual": ("fraction per year", -0.99, 1.0),
}

#: Metrics: name -> (unit, needs a month).
METRICS: dict[str, tuple[str, bool]] = {
    "total_value": ("money", False),
    "ltv": ("money per customer", False),
    "unit_profit": ("money per customer", False),
    "ltv_to_cac": ("ratio", False),
    "payback_months": ("months", False),
    "mrr": ("money per month", True),
    "active_customers": ("customers", True),
    "contribution": ("money per month", True),
    "cumulative_cash": ("money", True),
}
ALL_SEGMENTS = "(all segments)"
_PERCENT = re.compile(r"^\s*([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)\s*%\s*$")


def _number(value: Any) -> Any:
    """``"10%"`` -> 0.10; numbers as they are (a factor 1.5 is 1.5, not 150%)."""
    if isinstance(value, str):
        match = _PERCENT.match(value)
        if match:
            return float(match.group(1)) / 100.0
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"'{value}' is not a number; write 1.5, 0.10 or \"10%\"") from None
    return value


Value = Annotated[float, BeforeValidator(_number)]


class SweepLever(StrictModel):
    """One lever of the sweeps, with the value left open.

    ``low`` / ``high`` bound it (tornado bars, solve ranges, Sobol ranges); ``values``
    lists grid points. The other fields say where and when it acts, as the scenario
    lever of the same name does.
    """

    lever: Literal[tuple(LEVER_KINDS)]  # type: ignore[valid-type]
    low: Value | None = None
    high: Value | None = None
    values: Annotated[list[Value], BeforeValidator(_as_list)] | None = None
    months: Months | None = Field(None, description="[first, last] projection month; default: every month.")
    from_month: Month | None = Field(None, description="price_change: first month at the new price.")
    applies_to: AppliesTo = "all"
    segments: list[str] | None = None
    shock_months: int | None = Field(None, ge=1, le=LAST_MONTH, description="price_elasticity_of_churn: fading shock.")
    label: str | None = Field(None, description="Name shown in tables and charts (default: the lever's key).")

    @model_validator(mode="after")
    def _in_bounds(self) -> "SweepLever":
        _check_months(self.months)
        unit, lowest, highest = LEVER_KINDS[self.lever]
        for name in ("low", "high"):
            value = getattr(self, name)
            if value is not None and not lowest <= value <= highest:
                raise ValueError(f"{name} {value:g} is outside [{lowest:g}, {highest:g}] ({unit})")
        for value in self.values or ():
            if not lowest <= value <= highest:
                raise ValueError(f"value {value:g} is outside [{lowest:g}, {highest:g}] ({unit})")
        if self.low is not None and self.high is not None and self.high < self.low:
            raise ValueError(f"high {self.high:g} is below low {self.low:g}")
        if self.from_month is not None and self.months is not None:
            raise ValueError("give either from_month or months, not both")
        return self


class MetricSpec(StrictModel):
    """What an analysis measures, per replication (see :mod:`simcore.sensitivity.metrics`)."""

    metric: Literal[tuple(METRICS)] = "total_value"  # type: ignore[valid-type]
    segment: str = ALL_SEGMENTS
    population: Literal["all", "new", "existing"] | None = None
    month: int | None = Field(None, ge=0, le=600, description="Projection month (0 = first); monthly metrics only.")

    @model_validator(mode="after")
    def _month(self) -> "MetricSpec":
        monthly = METRICS[self.metric][1]
        if monthly and self.month is None:
            raise ValueError(f"{self.metric} is a monthly metric: give month (0 = the first projection month)")
        if not monthly and self.month is not None:
            raise ValueError(f"{self.metric} is not a monthly metric: remove month")
        if self.metric in ("ltv_to_cac", "payback_months") and self.population not in (None, "new"):
            raise ValueError(f"{self.metric} is measured on new customers: population new")
        return self


def _metric(value: Any) -> Any:
    return {"metric": value} if isinstance(value, str) else value


MetricRef = Annotated[MetricSpec, BeforeValidator(_metric, json_schema_input_type=Union[str, MetricSpec])]
MetricList = Annotated[list[MetricRef], BeforeValidator(lambda v: [v] if isinstance(v, (str, dict)) else v)]


class TornadoConfig(StrictModel):
    levers: list[str] | None = Field(None, description="Lever names (default: every lever with low and high).")
    metrics: MetricList | None = Field(None, description="Default: sensitivity.metric.")


class GridConfig(StrictModel):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,60}$")]
    x: str
    y: str | None = None
    points: int = Field(5, ge=2, le=41, description="Values per lever between low and high (when values is not given).")
    metric: MetricRef | None = None
    target: float | None = Field(None, description="Contour of the metric at this level (default: no change from the base).")


class SolveConfig(StrictModel):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,60}$")]
    lever: str
    metric: MetricRef | None = None
    target: float | None = None
    maximise: bool = False
    range: tuple[Value, Value] | None = Field(None, description="Default: the lever's [low, high].")
    points: int = Field(7, ge=3, le=41)
    refinements: int = Field(3, ge=0, le=10)

    @model_validator(mode="after")
    def _goal(self) -> "SolveConfig":
        if self.maximise == (self.target is not None):
            raise ValueError("give either target (the value the metric must reach) or maximise: true")
        if self.range is not None and self.range[1] <= self.range[0]:
            raise ValueError("range must be [low, high] with high above low")
        return self


class SobolConfig(StrictModel):
    levers: list[str] | None = Field(None, description="Default: every lever with low and high.")
    samples: int = Field(64, ge=4, le=8192, description="Saltelli base sample N: N (levers + 2) points.")
    replications: int | None = Field(None, ge=2, le=100_000)
    metric: MetricRef | None = None


class StressConfig(StrictModel):
    templates: list[str] = Field(default_factory=lambda: ["mild", "severe"],
                                 description="Built-in (mild, severe), library or config scenario names.")
    library: Annotated[list[ScenarioConfig], BeforeValidator(_as_list)] = Field(
        default_factory=list, description="Your own templates: scenarios (levers with windows).")
    reverse: list[SolveConfig] = Field(default_factory=list, description="Reverse stress tests (solves).")
    fan_months: int | None = Field(None, ge=1, le=600, description="Months shown in the fan charts (default: 60).")


class SensitivityConfig(StrictModel):
    """Sensitivity tables and stress tests (``simcore sensitivity``)."""

    base: str | ScenarioConfig = Field(
        "baseline", description="Scenario every sweep starts from: a scenario's name, or levers written here.")
    replications: int | None = Field(None, ge=2, le=100_000, description="Default: simulation.replications.")
    metric: MetricRef = Field(default_factory=MetricSpec)
    levers: dict[str, SweepLever] = Field(default_factory=dict)
    tornado: TornadoConfig | None = None
    grids: list[GridConfig] = Field(default_factory=list)
    solve: list[SolveConfig] = Field(default_factory=list)
    sobol: SobolConfig | None = None
    stress: StressConfig | None = None
    batch_points: int = Field(16, ge=1, le=1000, description="Sweep points simulated per batch (bounds memory).")
