"""The ``data:`` section: where the customer book comes from and how its headers map."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Discriminator, Field, Tag, model_validator

from simcore.config.base import IsoDate, StrictModel


class ColumnMap(StrictModel):
    """Which of the user's headers holds each field simcore needs.

    Two shapes of book are accepted: the **date shape** (``signup`` and optional ``churn``
    dates, plus ``data.as_of``) and the **tenure shape** (``tenure`` in whole months and a
    ``churned`` flag such as Yes/No, true/false, 1/0).
    """

    id: str | None = Field(None, description="Customer id column (default: a column named id/customer_id, else the row number).")
    signup: str | None = Field(None, description="Signup date column (date shape).")
    churn: str | None = Field(None, description="Churn date column; blank means still active (date shape).")
    tenure: str | None = Field(None, description="Tenure in whole months (tenure shape).")
    churned: str | None = Field(None, description="Churned flag: Yes/No, true/false, 1/0 (tenure shape).")
    mrr: str | None = Field(None, description="Current monthly recurring revenue per customer.")
    cac: str | None = Field(None, description="Per-customer acquisition cost (wins over segment economics).")
    onboarding_cost: str | None = Field(None, description="Per-customer one-off onboarding cost.")
    support_cost_per_month: str | None = Field(None, description="Per-customer monthly support cost.")

    @model_validator(mode="after")
    def _one_shape(self) -> "ColumnMap":
        date_shape = self.signup is not None
        tenure_shape = self.tenure is not None or self.churned is not None
        if self.churn is not None and not date_shape:
            raise ValueError("'churn' is a date column and needs 'signup' as well")
        if date_shape and tenure_shape:
            raise ValueError(
                "give either signup/churn dates or tenure/churned columns, not both"
            )
        if not date_shape and not tenure_shape:
            raise ValueError(
                "map either 'signup' (and 'churn') date columns, or 'tenure' and 'churned' columns"
            )
        if tenure_shape and (self.tenure is None or self.churned is None):
            missing = "tenure" if self.tenure is None else "churned"
            raise ValueError(f"the tenure shape needs both 'tenure' and 'churned'; '{missing}' is missing")
        return self

    @property
    def shape(self) -> Literal["date", "tenure"]:
        return "date" if self.signup is not None else "tenure"


class SqlSource(StrictModel):
    """Customers (or history) read with a SQL query through SQLAlchemy.

    The database URL is read from the environment variable named in ``url_env`` so that no
    password is ever written into a config file.
    """

    query: str = Field(..., description="SQL query returning one row per customer (or history row).")
    url_env: str = Field(..., description="Name of the environment variable holding the SQLAlchemy URL.")


class HistoryColumns(StrictModel):
    id: str = "customer_id"
    month: str = "month"
    mrr: str = "mrr"


class HistorySource(StrictModel):
    """Optional MRR history: one row per (customer, month) or per change of MRR.

    A row gives the customer's MRR from that month on until their next row; MRR ends when
    the customer churns.
    """

    path: str | None = None
    sql: SqlSource | None = None
    columns: HistoryColumns = HistoryColumns()
    delimiter: str | None = None
    sheet: str | int | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "HistorySource":
        if (self.path is None) == (self.sql is None):
            raise ValueError("give exactly one of 'path' or 'sql'")
        return self


class DataConfig(StrictModel):
    """Where the customer book comes from and how its headers map onto simcore's fields."""

    customers: Annotated[
        Union[Annotated[str, Tag("path")], Annotated[SqlSource, Tag("sql")]],
        Discriminator(lambda v: "sql" if isinstance(v, (dict, SqlSource)) else "path"),
    ] = Field(
        ..., description="Path to a CSV, Parquet or XLSX file (relative to the config), or {query, url_env}."
    )
    columns: ColumnMap
    as_of: IsoDate | None = Field(None, description="Valuation date for the date shape (default: the latest date in the file).")
    attributes: list[str] | None = Field(None, description="Attribute columns to keep (default: every unmapped column).")
    delimiter: str | None = Field(None, description="CSV delimiter (default: detected among , ; tab |).")
    sheet: str | int | None = Field(None, description="Sheet name or index for .xlsx files (default: the first).")
    date_format: str | None = Field(None, description="strftime format of date columns (default: ISO or detected).")
    history: HistorySource | None = None
