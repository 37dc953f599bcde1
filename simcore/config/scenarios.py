"""The ``scenarios:`` section: named sets of levers compared with the baseline."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, model_validator

from simcore.config.base import Fraction, StrictModel, _as_list
from simcore.config.economics import MONEY_LIMIT


AppliesTo = Literal["all", "new", "existing"]

#: Name of the run without levers, against which every scenario is compared.
BASELINE = "baseline"


#: Last calendar month a window may name (twice the longest horizon: a customer acquired
#: in the last projection month is valued over a whole horizon after it).
LAST_MONTH = 1200
#: Upper bound of every factor on a hazard, a probability or a volume: beyond it a typo
#: (``150`` for ``1.5``) is likelier than a scenario.
MAX_FACTOR = 100.0
#: Upper bound of an elasticity (a 10% price rise with elasticity 10 multiplies the
#: hazard by 1.1^10 = 2.6).
MAX_ELASTICITY = 10.0

Month = Annotated[int, Field(ge=0, le=LAST_MONTH)]
Months = tuple[Month, Month]


def _check_months(months: tuple[int, int] | None) -> None:
    if months is not None and months[1] < months[0]:
        raise ValueError(f"months [{months[0]}, {months[1]}] end before they start; write [start, end]")


class Window(StrictModel):
    """A factor in a calendar window of projection months, both ends included (month 0
    is the first month after ``as_of``); without ``months``, every month."""

    months: Months | None = Field(None, description="[first, last] projection month, both included; default: every month.")
    factor: float = Field(..., ge=0, le=MAX_FACTOR, description="Multiplier (1 = no change).")
    segments: list[str] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        _check_months(self.months)
        return self


def _windows(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [{"factor": value}]
    return _as_list(value)


WindowList = Annotated[list[Window], BeforeValidator(_windows, json_schema_input_type=Union[float, Window, list[Window]])]


class ChangeWindow(StrictModel):
    """A relative change (``10%``) in a calendar window; without ``months``, every month."""

    pct: Fraction = Field(..., ge=-1, le=MAX_FACTOR)
    months: Months | None = Field(None, description="[first, last] projection month, both included; default: every month.")
    segments: list[str] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "ChangeWindow":
        _check_months(self.months)
        return self


def _changes(value: Any) -> Any:
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return [{"pct": value}]
    return _as_list(value)


ChangeList = Annotated[list[ChangeWindow], BeforeValidator(_changes, json_schema_input_type=Union[Fraction, ChangeWindow, list[ChangeWindow]])]


class PriceChange(StrictModel):
    """A list-price change from ``from_month`` on, or within ``months`` only."""

    pct: Fraction = Field(..., gt=-1, le=10, description="Change of the list price, e.g. 10% or -5%.")
    from_month: Month = Field(0, description="First projection month at the new price (when months is not given).")
    months: Months | None = Field(None, description="[first, last] month at the new price; the old price returns after.")
    applies_to: AppliesTo = "all"
    segments: list[str] | None = None

    @model_validator(mode="after")
    def _one_timing(self) -> "PriceChange":
        _check_months(self.months)
        if self.months is not None and "from_month" in self.model_fields_set:
            raise ValueError("give either from_month (a lasting change) or months (a change within a window), not both")
        return self

    @property
    def window(self) -> tuple[int, int | None]:
        """(first month, last month or None for a lasting change)."""
        return (self.months[0], self.months[1]) if self.months is not None else (self.from_month, None)


class Elasticity(StrictModel):
    """A constant price elasticity for some segments (all when ``segments`` is not given)."""

    elasticity: float = Field(..., ge=0, le=MAX_ELASTICITY)
    segments: list[str] | None = None


class ChurnElasticity(Elasticity):
    """Constant elasticity of the churn hazard to the list price: hazard x (price ratio)^e.

    ``shock_months: N`` makes the response a renewal shock that fades linearly over N
    months instead of a lasting shift."""

    shock_months: int | None = Field(None, ge=1, le=LAST_MONTH,
                                      description="Months over which the churn response fades (default: it lasts).")


def _elasticities(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [{"elasticity": value}]
    return _as_list(value)


class Discount(StrictModel):
    """A price discount taken by a share of customers for a while, e.g. annual prepay."""

    pct: Fraction = Field(..., ge=0, le=1, description="Discount off the price while it lasts.")
    duration_months: int = Field(..., ge=1, le=LAST_MONTH)
    eligible_share: Fraction = Field(1.0, ge=0, le=1, description="Share of customers who take the discount.")
    churn_multiplier: float = Field(1.0, ge=0, le=MAX_FACTOR, description="Factor on churn of takers while discounted (prepay locks customers in).")
    applies_to: AppliesTo = "new"
    from_month: Month = Field(0, description="For existing customers: first projection month of the discount.")
    months: Months | None = Field(
        None, description="New customers: the months in which the offer is made (acquired then, discounted for their "
                          "first duration_months); existing customers: the calendar months discounted.")
    segments: list[str] | None = None

    @model_validator(mode="after")
    def _one_timing(self) -> "Discount":
        _check_months(self.months)
        if self.months is not None and "from_month" in self.model_fields_set:
            raise ValueError("give either from_month (with duration_months) or months, not both")
        return self

    @property
    def existing_window(self) -> tuple[int, int]:
        if self.months is not None:
            return self.months[0], self.months[1]
        return self.from_month, self.from_month + self.duration_months - 1


class CsCoverage(StrictModel):
    """Customer-success coverage of segments: CSMs cost money and cut churn."""

    segments: list[str] | None = None
    accounts_per_csm: float = Field(..., ge=1, le=1e6, description="Accounts one CSM covers (at least 1).")
    cost_per_csm_per_year: float = Field(..., ge=0, le=12 * MONEY_LIMIT)
    churn_multiplier: float = Field(1.0, ge=0, le=10)
    expansion_multiplier: float = Field(1.0, ge=0, le=10)
    months: Months | None = Field(None, description="[first, last] projection month covered; default: every month.")

    @model_validator(mode="after")
    def _cost_per_account(self) -> "CsCoverage":
        _check_months(self.months)
        monthly = self.cost_per_csm_per_year / 12 / self.accounts_per_csm
        if monthly > MONEY_LIMIT:
            raise ValueError(
                f"a covered account would cost {monthly:.3g} a month (cost_per_csm_per_year / 12 / accounts_per_csm), "
                f"more than {MONEY_LIMIT:.0e}; check both values"
            )
        return self


class ScenarioConfig(StrictModel):
    """A named scenario: a set of levers applied on top of the baseline (or of the
    scenario it ``extends``). Units and formulas: the README's lever reference."""

    name: str
    description: str = ""
    extends: str | None = None
    price_change: Annotated[
        list[PriceChange], BeforeValidator(_as_list, json_schema_input_type=Union[PriceChange, list[PriceChange]])
    ] = Field(default_factory=list)
    price_elasticity_of_churn: Annotated[
        list[ChurnElasticity],
        BeforeValidator(_elasticities, json_schema_input_type=Union[float, ChurnElasticity, list[ChurnElasticity]]),
    ] = Field(default_factory=list, description="Churn hazard x (price ratio)^elasticity for customers who saw the change.")
    price_elasticity_of_acquisition: Annotated[
        list[Elasticity], BeforeValidator(_elasticities, json_schema_input_type=Union[float, Elasticity, list[Elasticity]])
    ] = Field(default_factory=list, description="New customers per month x (new-customer price factor)^-elasticity.")
    discount: Annotated[
        list[Discount], BeforeValidator(_as_list, json_schema_input_type=Union[Discount, list[Discount]])
    ] = Field(default_factory=list)
    churn_multiplier: WindowList = Field(default_factory=list)
    expansion_multiplier: WindowList = Field(default_factory=list)
    contraction_multiplier: WindowList = Field(default_factory=list)
    cac_change: ChangeList = Field(default_factory=list)
    acquisition_multiplier: WindowList = Field(default_factory=list)
    new_customers_per_month: dict[str, Annotated[float, Field(ge=0)]] | None = None
    cost_to_serve_change: ChangeList = Field(default_factory=list)
    gross_margin_change: ChangeList = Field(default_factory=list)
    discount_rate_annual: Fraction | None = Field(None, gt=-1, le=1)
    cs_coverage: CsCoverage | None = None
