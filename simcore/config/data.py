"""The ``data:`` section: where the customer book comes from and how its headers map."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from simcore.config.base import IsoDate, StrictModel

#: ``scheme://`` at the start of a value: a URL, not a file path.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
#: What an environment variable's name looks like (POSIX shells).
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: Months in one period of ``data.period``, and the period names in messages.
MONTHS_PER_PERIOD: dict[str, float] = {"week": 12 / 52, "month": 1.0, "quarter": 3.0, "year": 12.0}


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        what = "a URL" if _URL.match(value) else "not a variable name"
        raise ValueError(
            f"url_env is the *name* of an environment variable that holds the database URL, and this value is "
            f"{what}; export the URL (e.g. export SIMCORE_DB_URL='postgresql://user:password@host/db') and write "
            "url_env: SIMCORE_DB_URL, so the password never sits in the config"
        )
    return value


def _file_path(value: str) -> str:
    if _URL.match(value):
        raise ValueError(
            "this looks like a URL, not a file path; read a database with "
            "{query: 'select ...', url_env: SIMCORE_DB_URL} and put the URL in that environment variable"
        )
    if "\x00" in value:
        raise ValueError("a file path cannot contain a NUL character")
    return value


FilePath = Annotated[str, AfterValidator(_file_path)]


def _date_format(value: str) -> str:
    """A strftime layout Python accepts, with a year and a month in it."""
    if not re.search(r"%[Yy]", value) or not re.search(r"%[mbB]", value):
        raise ValueError(
            f"date_format {value!r} needs a year (%Y or %y) and a month (%m, %b or %B), e.g. '%d/%m/%Y'"
        )
    sample = datetime(2001, 2, 13, 14, 15, 16)
    try:
        datetime.strptime(sample.strftime(value), value)
    except ValueError as error:
        raise ValueError(
            f"date_format {value!r} is not a layout Python can read ({error}); use directives such as "
            "%d (day), %m (month), %Y (year), e.g. '%d/%m/%Y'"
        ) from None
    return value


def _delimiter(value: str) -> str:
    if len(value) != 1 or value in ('"', "\n", "\r"):
        raise ValueError(
            f"delimiter {value!r} must be a single character other than a quote or a line break, "
            "e.g. ',' ';' '|' or '\\t' for tab"
        )
    return value


Delimiter = Annotated[str, AfterValidator(_delimiter)]


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
    url_env: Annotated[str, AfterValidator(_env_name)] = Field(
        ..., description="Name of the environment variable holding the SQLAlchemy URL (not the URL itself)."
    )


class HistoryColumns(StrictModel):
    id: str = "customer_id"
    month: str = "month"
    mrr: str = "mrr"


class HistorySource(StrictModel):
    """Optional MRR history: one row per (customer, month) or per change of MRR.

    A row gives the customer's MRR from that month on until their next row; MRR ends when
    the customer churns.
    """

    path: FilePath | None = None
    sql: SqlSource | None = None
    columns: HistoryColumns = HistoryColumns()
    delimiter: Delimiter | None = None
    sheet: str | int | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "HistorySource":
        if (self.path is None) == (self.sql is None):
            raise ValueError("give exactly one of 'path' or 'sql'")
        return self


class DataConfig(StrictModel):
    """Where the customer book comes from and how its headers map onto simcore's fields."""

    customers: Annotated[
        Union[Annotated[FilePath, Tag("path")], Annotated[SqlSource, Tag("sql")]],
        Discriminator(lambda v: "sql" if isinstance(v, (dict, SqlSource)) else "path"),
    ] = Field(
        ..., description="Path to a CSV, Parquet or XLSX file (relative to the config), or {query, url_env}."
    )
    columns: ColumnMap
    as_of: IsoDate | None = Field(None, description="Valuation date for the date shape (default: the latest date in the file).")
    attributes: list[str] | None = Field(None, description="Attribute columns to keep (default: every unmapped column).")
    delimiter: Delimiter | None = Field(None, description="CSV delimiter, one character (default: detected among , ; tab |).")
    sheet: str | int | None = Field(None, description="Sheet name or index for .xlsx files (default: the first).")
    date_format: Annotated[str, AfterValidator(_date_format)] | None = Field(
        None, description="strftime layout of every date column written as text, e.g. '%d/%m/%Y' "
        "(default: ISO 8601, or detected when unambiguous)."
    )
    period: Literal["week", "month", "quarter", "year"] = Field(
        "month",
        description="Unit of the tenure column (tenure shape): a book counted in quarters or years (renewals) "
        "or weeks is put on simcore's monthly grid; see the README.",
    )
    history: HistorySource | None = None

    @model_validator(mode="after")
    def _period_needs_tenure(self) -> "DataConfig":
        if self.period != "month" and self.columns.shape != "tenure":
            raise ValueError(
                "data.period describes a tenure column; a book with signup and churn dates is already "
                "placed on the monthly grid, so remove data.period"
            )
        return self
