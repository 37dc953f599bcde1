"""The ``economics:`` section: unit economics per segment, typed or derived from data."""

from __future__ import annotations


from pydantic import Field

from simcore.config.base import Fraction, StrictModel
from simcore.config.data import FilePath

#: Largest money value of a config field (the same bound as the customer book's,
#: :data:`simcore.data.book.MONEY_LIMIT`): a larger one is a typo or a unit mistake.
MONEY_LIMIT = 1e12


class EconomicsValues(StrictModel):
    """Unit economics of a segment. Money is in one currency: per month for recurring
    items, per customer for one-off items. Any field left out inherits from
    ``economics.default``."""

    gross_margin: Fraction | None = Field(None, ge=0, le=1, description="Share of revenue kept after cost of revenue.")
    support_cost_per_month: float | None = Field(None, ge=0, le=MONEY_LIMIT, description="Support cost per active account per month.")
    other_cost_to_serve_per_month: float | None = Field(None, ge=0, le=MONEY_LIMIT, description="Other cost to serve per active account per month.")
    infrastructure_cost_share: Fraction | None = Field(None, ge=0, le=1, description="Infrastructure cost as a share of revenue.")
    infrastructure_cost_per_month: float | None = Field(None, ge=0, le=MONEY_LIMIT, description="Infrastructure cost per active account per month.")
    cac: float | None = Field(None, ge=0, le=MONEY_LIMIT, description="Acquisition cost per new customer.")
    onboarding_cost: float | None = Field(None, ge=0, le=MONEY_LIMIT, description="One-off onboarding cost per new customer.")
    mrr: float | None = Field(None, ge=0, le=MONEY_LIMIT, description="MRR of a customer whose MRR is unknown (and of new customers when the book has no MRR).")
    discount_rate_annual: Fraction | None = Field(None, gt=-1, description="Annual discount rate of this segment.")


class SpendColumns(StrictModel):
    month: str = "month"
    key: str = Field("channel", description="Column of the spend table naming the channel or segment.")
    spend: str = "spend"


class AcquisitionSpend(StrictModel):
    """CAC from data: acquisition spend per month per channel (or segment) divided by the
    customers acquired through it in the same months."""

    path: FilePath
    columns: SpendColumns = SpendColumns()
    customer_column: str = Field("channel", description="Customer attribute matching the spend table's key column.")
    months: int = Field(12, ge=1, description="Trailing months before as_of used for the ratio.")


class CostColumns(StrictModel):
    month: str = "month"
    key: str = Field("segment", description="Column of the cost table naming the segment or attribute value.")
    cost: str = "cost"


class SupportCostTable(StrictModel):
    """Support cost per account-month from data: total support cost per month per key
    divided by the active accounts of that key in the same months."""

    path: FilePath
    columns: CostColumns = CostColumns()
    customer_column: str = Field("segment", description="Customer attribute (or 'segment') matching the key column.")
    months: int = Field(12, ge=1, description="Trailing months before as_of used for the ratio.")


class EconomicsConfig(StrictModel):
    default: EconomicsValues = EconomicsValues()
    segments: dict[str, EconomicsValues] = Field(default_factory=dict)
    cac_from_spend: AcquisitionSpend | None = None
    support_cost_from: SupportCostTable | None = None
    currency: str | None = Field(
        None, min_length=1, max_length=12,
        description="Currency of every amount (a code or sign: USD, EUR, €), shown on plots, the report and "
        "workbook headers. A label only: nothing is converted.",
    )
