"""The ``scenarios:`` section: named sets of levers compared with the baseline."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, model_validator

from simcore.config.base import Fraction, StrictModel, _as_list
from simcore.config.economics import MONEY_LIMIT


AppliesTo = Literal["all", "new", "existing"]

#: Name of the run without levers, against which every scenario is compared.
BASELINE = "baseline"


class Window(StrictModel):
    """A calendar window of projection months, both ends included (month 0 is the first
    month after ``as_of``)."""

    months: tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]]
    factor: float = Field(..., ge=0)
    segments: list[str] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        if self.months[1] < self.months[0]:
            raise ValueError(f"months [{self.months[0]}, {self.months[1]}] end before they start; write [start, end]")
        return self


def _windows(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [{"months": [0, 10_000], "factor": value}]
    return _as_list(value)


WindowList = Annotated[list[Window], BeforeValidator(_windows, json_schema_input_type=Union[float, Window, list[Window]])]


class PriceChange(StrictModel):
    pct: Fraction = Field(..., gt=-1, description="Change of the list price, e.g. 10% or -5%.")
    from_month: int = Field(0, ge=0, description="First projection month at the new price.")
    applies_to: AppliesTo = "all"
    segments: list[str] | None = None


class Discount(StrictModel):
    """A price discount taken by a share of customers for a while, e.g. annual prepay."""

    pct: Fraction = Field(..., ge=0, le=1, description="Discount off the price while it lasts.")
    duration_months: int = Field(..., ge=1)
    eligible_share: Fraction = Field(1.0, ge=0, le=1, description="Share of customers who take the discount.")
    churn_multiplier: float = Field(1.0, ge=0, description="Factor on churn of takers while discounted (prepay locks customers in).")
    applies_to: AppliesTo = "new"
    from_month: int = Field(0, ge=0, description="For existing customers: first projection month of the discount.")
    segments: list[str] | None = None


class SegmentFactor(StrictModel):
    factor: float = Field(..., ge=0)
    segments: list[str] | None = None


def _factor(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"factor": value}
    return value


class SegmentChange(StrictModel):
    pct: Fraction
    segments: list[str] | None = None


def _change(value: Any) -> Any:
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return {"pct": value}
    return value


class CsCoverage(StrictModel):
    """Customer-success coverage of segments: CSMs cost money and cut churn."""

    segments: list[str] | None = None
    accounts_per_csm: float = Field(..., gt=0)
    cost_per_csm_per_year: float = Field(..., ge=0, le=12 * MONEY_LIMIT)
    churn_multiplier: float = Field(1.0, ge=0)
    expansion_multiplier: float = Field(1.0, ge=0)

    @model_validator(mode="after")
    def _cost_per_account(self) -> "CsCoverage":
        monthly = self.cost_per_csm_per_year / 12 / self.accounts_per_csm
        if monthly > MONEY_LIMIT:
            raise ValueError(
                f"a covered account would cost {monthly:.3g} a month (cost_per_csm_per_year / 12 / accounts_per_csm), "
                f"more than {MONEY_LIMIT:.0e}; check both values"
            )
        return self


class ScenarioConfig(StrictModel):
    """A named scenario: a set of levers applied on top of the baseline (or of the
    scenario it ``extends``)."""

    name: str
    description: str = ""
    extends: str | None = None
    price_change: Annotated[
        list[PriceChange], BeforeValidator(_as_list, json_schema_input_type=Union[PriceChange, list[PriceChange]])
    ] = Field(default_factory=list)
    price_elasticity_of_churn: float = Field(0.0, ge=0, description="Churn hazard rises by elasticity x price change.")
    discount: Annotated[
        list[Discount], BeforeValidator(_as_list, json_schema_input_type=Union[Discount, list[Discount]])
    ] = Field(default_factory=list)
    churn_multiplier: WindowList = Field(default_factory=list)
    expansion_multiplier: Annotated[SegmentFactor | None, BeforeValidator(_factor, json_schema_input_type=Union[float, SegmentFactor, None])] = None
    contraction_multiplier: Annotated[SegmentFactor | None, BeforeValidator(_factor, json_schema_input_type=Union[float, SegmentFactor, None])] = None
    cac_change: Annotated[SegmentChange | None, BeforeValidator(_change, json_schema_input_type=Union[Fraction, SegmentChange, None])] = None
    acquisition_multiplier: WindowList = Field(default_factory=list)
    new_customers_per_month: dict[str, Annotated[float, Field(ge=0)]] | None = None
    cost_to_serve_change: Annotated[SegmentChange | None, BeforeValidator(_change, json_schema_input_type=Union[Fraction, SegmentChange, None])] = None
    gross_margin_change: Annotated[SegmentChange | None, BeforeValidator(_change, json_schema_input_type=Union[Fraction, SegmentChange, None])] = None
    discount_rate_annual: Fraction | None = Field(None, gt=-1)
    cs_coverage: CsCoverage | None = None
