"""The validated, immutable run configuration (YAML -> pydantic v2 models).

Rules every section follows:

* unknown keys are errors, with a did-you-mean suggestion;
* every field that carries a unit names it (``horizon_months``, ``discount_rate_annual``);
* percentages are written ``"10%"`` or ``0.10`` and held as fractions;
* every error names the file, the line and the dotted path, and all errors in a file are
  reported in one go.

Paths inside a config are relative to the config file's folder.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from simcore.errors import ConfigError, Problem
from simcore.yamlio import LocatedYaml, load_yaml, load_yaml_text

# --------------------------------------------------------------------------- helpers

_PERCENT = re.compile(r"^\s*([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)\s*%\s*$")


def parse_fraction(value: Any) -> Any:
    """``"10%"`` -> 0.10; numbers pass through (already fractions). Other text is left for
    pydantic to reject with its usual message."""
    if isinstance(value, str):
        match = _PERCENT.match(value)
        if match:
            return float(match.group(1)) / 100.0
        try:
            return float(value)
        except ValueError:
            raise ValueError(
                f"'{value}' is not a percentage; write it as \"10%\" or 0.10"
            ) from None
    if isinstance(value, bool):
        raise ValueError("expected a percentage such as \"10%\" or 0.10, not true/false")
    return value


Fraction = Annotated[float, BeforeValidator(parse_fraction)]
"""A fraction, written in YAML as ``"10%"`` or ``0.10``."""


def _parse_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"'{value}' is not a date; write it as YYYY-MM-DD") from None
    return value


IsoDate = Annotated[date, BeforeValidator(_parse_date)]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, (str, dict)) else value


class StrictModel(BaseModel):
    """Base of every config section: immutable, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --------------------------------------------------------------------------- data


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


# --------------------------------------------------------------------------- segments


class BandRule(StrictModel):
    """Bands of a numeric column: ``edges`` are ascending cut points, ``labels`` has one
    more entry than ``edges``. A value equal to an edge falls in the higher band
    (edges [100, 1000] give < 100, 100 to < 1000, >= 1000)."""

    column: str
    edges: list[float]
    labels: list[str]

    @model_validator(mode="after")
    def _check(self) -> "BandRule":
        if any(b <= a for a, b in zip(self.edges, self.edges[1:])):
            raise ValueError("edges must be strictly ascending")
        if len(self.labels) != len(self.edges) + 1:
            raise ValueError(
                f"{len(self.edges)} edges make {len(self.edges) + 1} bands, so give "
                f"{len(self.edges) + 1} labels (got {len(self.labels)})"
            )
        return self


class QuantileRule(StrictModel):
    """Equal-count groups of a behaviour column (tickets per month...): ``labels`` names
    the groups from lowest to highest; their number sets the number of quantile groups."""

    column: str
    quantiles: int | None = Field(None, ge=2, description="Number of groups (default: len(labels)).")
    labels: list[str] | None = None

    @model_validator(mode="after")
    def _check(self) -> "QuantileRule":
        if self.quantiles is None and not self.labels:
            raise ValueError("give 'labels' (one per group) or 'quantiles' (number of groups)")
        if self.quantiles is not None and self.labels and len(self.labels) != self.quantiles:
            raise ValueError(f"{self.quantiles} quantile groups need {self.quantiles} labels (got {len(self.labels)})")
        return self

    @property
    def group_labels(self) -> list[str]:
        if self.labels:
            return list(self.labels)
        return [f"q{i + 1}" for i in range(self.quantiles or 0)]


def _segment_rule_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "band" if "edges" in value else "quantile"
    if isinstance(value, (BandRule, QuantileRule)):
        return "band" if isinstance(value, BandRule) else "quantile"
    return "column"


SegmentRule = Annotated[
    Union[
        Annotated[str, Tag("column")],
        Annotated[BandRule, Tag("band")],
        Annotated[QuantileRule, Tag("quantile")],
    ],
    Discriminator(_segment_rule_kind),
]


class SegmentsConfig(StrictModel):
    """How customers are grouped. ``by`` lists the key parts in order: a column name
    (its values are used as they are), a band rule, or a quantile rule. Parts are joined
    with ``/`` (``enterprise/sales_led``)."""

    by: Annotated[list[SegmentRule], BeforeValidator(_as_list)] = Field(default_factory=list)
    min_customers: int = Field(100, ge=0, description="Segments smaller than this merge into `other_label`.")
    other_label: str = "other"


# --------------------------------------------------------------------------- root


class Config(StrictModel):
    """A simcore run configuration."""

    name: str = "simcore"
    data: DataConfig
    segments: SegmentsConfig = SegmentsConfig()

    # Set by load_config, not by YAML: the folder relative paths are resolved against.
    base_dir: Path = Field(default=Path("."), exclude=True)
    source: str = Field(default="<config>", exclude=True)

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate


# --------------------------------------------------------------------------- loading


def _model_fields_at(model: type[BaseModel], path: tuple, data: Any) -> list[str]:
    """Field names of the (sub)model a path points into, for did-you-mean. Where the
    annotation is a union of models, the member sharing most keys with the user's
    mapping is the one they meant."""
    candidates: list[type[BaseModel]] = [model]
    value = data
    for part in path:
        current = _best_model(candidates, value)
        if isinstance(value, (dict, list)):
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                value = None
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        candidates = _models_in(fields[part].annotation)
    current = _best_model(candidates, value)
    fields = getattr(current, "model_fields", None)
    return [name for name in fields if name not in ("base_dir", "source")] if fields else []


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_models_in(arg))
    for meta in getattr(annotation, "__metadata__", ()) or ():
        found.extend(_models_in(meta))
    return found


def _best_model(models: list[type[BaseModel]], value: Any) -> Any:
    if not models:
        return None
    keys = set(value) if isinstance(value, dict) else set()
    return max(models, key=lambda m: len(keys & set(m.model_fields)))


def _user_path(loc: tuple, data: Any, final_key_may_be_absent: bool) -> tuple:
    """Drop pydantic's bookkeeping entries (union tags, validator names) from an error
    location, keeping only the keys and indices that exist in the user's YAML (plus a
    final key that is missing from it)."""
    path: list = []
    current = data
    for position, part in enumerate(loc):
        if isinstance(current, dict) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif (
            final_key_may_be_absent
            and position == len(loc) - 1
            and isinstance(part, str)
            and isinstance(current, dict)
        ):
            path.append(part)
    return tuple(path)


def problems_from_validation(
    error: ValidationError, located: LocatedYaml, model: type[BaseModel]
) -> list[Problem]:
    """Turn pydantic's errors into one located :class:`Problem` each."""
    problems: list[Problem] = []
    seen: set[tuple] = set()
    for item in error.errors(include_url=False):
        kind = item["type"]
        loc = _user_path(item["loc"], located.data, kind in ("missing", "extra_forbidden"))
        dotted = ".".join(str(p) for p in loc)
        if kind == "extra_forbidden":
            key = loc[-1]
            options = _model_fields_at(model, loc[:-1], located.data)
            close = difflib.get_close_matches(str(key), options, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else (
                f"valid keys here: {', '.join(options)}" if options else "remove it"
            )
            message, signature = f"unknown key '{key}'", (loc, kind)
        elif kind == "missing":
            message, hint, signature = "required key is missing", "add it", (loc, kind)
        else:
            message = item["msg"]
            if message.startswith("Value error, "):
                message = message[len("Value error, "):]
            elif message.startswith("Assertion failed, "):
                message = message[len("Assertion failed, "):]
            hint = ""
            if "input" in item and not isinstance(item["input"], (dict, list)) and kind not in ("value_error",):
                message = f"{message} (got {item['input']!r})"
            signature = (loc, message)
        if signature in seen:
            continue
        seen.add(signature)
        problems.append(
            Problem(message, hint, source=located.source, line=located.line_of(loc), field=dotted or None)
        )
    return sorted(problems, key=lambda p: (p.line or 0))


def validate_config_data(located: LocatedYaml, base_dir: Path) -> Config:
    """Validate parsed YAML against :class:`Config`, reporting every problem at once."""
    if not isinstance(located.data, dict):
        raise ConfigError(
            Problem("the top level must be a mapping of keys such as data:, segments:", "", source=located.source, line=1)
        )
    try:
        return Config.model_validate({**located.data, "base_dir": base_dir, "source": located.source})
    except ValidationError as error:
        raise ConfigError(problems_from_validation(error, located, Config)) from None


def load_config(path: str | Path) -> Config:
    """Read, parse and validate a YAML config file."""
    path = Path(path)
    located = load_yaml(path)
    return validate_config_data(located, path.parent)


def config_from_text(text: str, base_dir: str | Path = ".", source: str = "<config>") -> Config:
    """Validate a config given as YAML text (tests, notebooks)."""
    return validate_config_data(load_yaml_text(text, source), Path(base_dir))


def quick_config(
    path: str | Path,
    *,
    id_col: str | None = None,
    tenure_col: str | None = None,
    event_col: str | None = None,
    signup_col: str | None = None,
    churn_col: str | None = None,
    as_of: str | None = None,
    mrr_col: str | None = None,
    segment_by: list[str] | None = None,
    min_customers: int | None = None,
    delimiter: str | None = None,
) -> Config:
    """Build a :class:`Config` from a data file and command-line flags.

    The quick form and the YAML form share every later step; this function only states
    flag problems in the flags' own words.
    """
    problems: list[Problem] = []
    tenure_shape = tenure_col is not None or event_col is not None
    date_shape = signup_col is not None or churn_col is not None
    if tenure_shape and date_shape:
        problems.append(Problem(
            "--tenure-col/--event-col and --signup-col/--churn-col describe different file shapes",
            "give either the tenure pair or the date columns, not both",
        ))
    elif tenure_shape and (tenure_col is None or event_col is None):
        missing = "--tenure-col" if tenure_col is None else "--event-col"
        problems.append(Problem(f"{missing} is missing", "the tenure shape needs --tenure-col and --event-col"))
    elif date_shape and signup_col is None:
        problems.append(Problem("--signup-col is missing", "the date shape needs --signup-col (and --churn-col for churn dates)"))
    elif not tenure_shape and not date_shape:
        problems.append(Problem(
            "the file's shape is not given",
            "add --tenure-col C --event-col C (tenure in months and a churned flag) or "
            "--signup-col C [--churn-col C] [--as-of YYYY-MM-DD] (dates)",
        ))
    if problems:
        raise ConfigError(problems)
    columns = {
        "id": id_col, "tenure": tenure_col, "churned": event_col, "signup": signup_col,
        "churn": churn_col, "mrr": mrr_col,
    }
    data: dict[str, Any] = {
        "customers": str(Path(path).resolve()),
        "columns": {k: v for k, v in columns.items() if v is not None},
    }
    if as_of is not None:
        data["as_of"] = as_of
    if delimiter is not None:
        data["delimiter"] = delimiter
    segments: dict[str, Any] = {"by": list(segment_by or [])}
    if min_customers is not None:
        segments["min_customers"] = min_customers
    flag_names = {
        ("data", "as_of"): "--as-of", ("segments", "min_customers"): "--min-customers",
        ("data", "delimiter"): "--delimiter",
    }
    try:
        return Config.model_validate(
            {"data": data, "segments": segments, "base_dir": Path("."), "source": str(path)}
        )
    except ValidationError as error:
        raise ConfigError([
            Problem(
                item["msg"].removeprefix("Value error, "),
                field=flag_names.get(tuple(item["loc"][:2]), ".".join(map(str, item["loc"]))),
            )
            for item in error.errors(include_url=False)
        ]) from None


def with_overrides(config: Config, **sections: dict[str, Any]) -> Config:
    """A copy of ``config`` with fields of top-level sections replaced (CLI flags that
    the user actually typed); untyped flags are ``None`` and never override the file."""
    updates: dict[str, Any] = {}
    for section, values in sections.items():
        values = {k: v for k, v in values.items() if v is not None}
        if values:
            current = getattr(config, section)
            updates[section] = type(current).model_validate({**current.model_dump(), **values})
    return config.model_copy(update=updates) if updates else config
