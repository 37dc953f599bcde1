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
    WithJsonSchema,
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


_FRACTION_SCHEMA = {
    "anyOf": [
        {"type": "number"},
        {"type": "string", "pattern": r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*%\s*$"},
    ],
    "description": 'A fraction: 0.10 or "10%".',
}
Fraction = Annotated[float, BeforeValidator(parse_fraction), WithJsonSchema(_FRACTION_SCHEMA)]
"""A fraction, written in YAML as ``"10%"`` or ``0.10``."""


def _parse_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"'{value}' is not a date; write it as YYYY-MM-DD") from None
    return value


IsoDate = Annotated[date, BeforeValidator(_parse_date), WithJsonSchema({"type": "string", "format": "date"})]


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

    by: Annotated[
        list[SegmentRule], BeforeValidator(_as_list, json_schema_input_type=Union[str, list[SegmentRule]])
    ] = Field(default_factory=list)
    min_customers: int = Field(100, ge=0, description="Segments smaller than this merge into `other_label`.")
    other_label: str = "other"


# --------------------------------------------------------------------------- retention

# Every allowed name comes from the family registry's declarations (a pure-Python module,
# cheap to import), so the config, the CLI and `auto` name the same families.
from simcore.retention import names as _retention_names  # noqa: E402

FAMILIES = _retention_names.FAMILY_CHOICES
ParametricFamily = Literal[_retention_names.PARAMETRIC_FAMILIES]  # type: ignore[valid-type]


class RetentionOverride(StrictModel):
    family: Literal[FAMILIES] | None = None  # type: ignore[valid-type]


class RetentionConfig(StrictModel):
    """How retention curves are fitted per segment."""

    family: Literal[FAMILIES] = Field("auto", description="A survival family, or auto to rank by the criterion.")  # type: ignore[valid-type]
    criterion: Literal[_retention_names.CRITERIA] = Field(  # type: ignore[valid-type]
        "aic", description="Ranking of auto: AIC, BIC, or the holdout log-likelihood (needs holdout_months)."
    )
    holdout_months: int | None = Field(
        None, ge=1,
        description="Refit on what was known this many months before as_of and score the later months "
        "(date-shaped books); the scores are reported beside AIC/BIC.",
    )
    breakpoints_months: list[Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: [3.0, 12.0, 24.0],
        description="Breakpoints of the piecewise-exponential family, in months.",
    )
    km_tail: ParametricFamily | None = Field(
        None, description="Kaplan-Meier cannot project past the last observed tenure; this family tails it."
    )
    uncertainty: Literal[_retention_names.UNCERTAINTY_METHODS] = Field(  # type: ignore[valid-type]
        "auto",
        description="Parameter draws: asymptotic normal, bootstrap of the aggregated counts, or auto "
        "(asymptotic when the fit is well conditioned, bootstrap otherwise, with a warning).",
    )
    model_averaging: Literal[_retention_names.MODEL_AVERAGING_METHODS] = Field(  # type: ignore[valid-type]
        _retention_names.DEFAULT_MODEL_AVERAGING,
        description="Mix families across replications: none (the chosen family only), akaike (by Akaike "
        "weight) or stacking (by holdout log score; needs holdout_months).",
    )
    segments: dict[str, RetentionOverride] = Field(default_factory=dict, description="Per-segment family overrides.")
    saved_fits: str | None = Field(
        None,
        description="Reuse the fits saved by `simcore fit --out` or `simcore run` (saved_fits.json) instead of "
        "refitting; checked against the data and settings they were made from.",
    )

    @model_validator(mode="after")
    def _holdout(self) -> "RetentionConfig":
        if self.criterion == "holdout" and self.holdout_months is None:
            raise ValueError("criterion 'holdout' needs holdout_months (e.g. 12)")
        if self.model_averaging == "stacking" and self.holdout_months is None:
            raise ValueError("model_averaging 'stacking' weighs families by holdout scores and needs "
                             "holdout_months (e.g. 12)")
        return self


# --------------------------------------------------------------------------- economics


class EconomicsValues(StrictModel):
    """Unit economics of a segment. Money is in one currency: per month for recurring
    items, per customer for one-off items. Any field left out inherits from
    ``economics.default``."""

    gross_margin: Fraction | None = Field(None, ge=0, le=1, description="Share of revenue kept after cost of revenue.")
    support_cost_per_month: float | None = Field(None, ge=0, description="Support cost per active account per month.")
    other_cost_to_serve_per_month: float | None = Field(None, ge=0, description="Other cost to serve per active account per month.")
    infrastructure_cost_share: Fraction | None = Field(None, ge=0, le=1, description="Infrastructure cost as a share of revenue.")
    infrastructure_cost_per_month: float | None = Field(None, ge=0, description="Infrastructure cost per active account per month.")
    cac: float | None = Field(None, ge=0, description="Acquisition cost per new customer.")
    onboarding_cost: float | None = Field(None, ge=0, description="One-off onboarding cost per new customer.")
    mrr: float | None = Field(None, ge=0, description="MRR of a customer whose MRR is unknown (and of new customers when the book has no MRR).")
    discount_rate_annual: Fraction | None = Field(None, gt=-1, description="Annual discount rate of this segment.")


class SpendColumns(StrictModel):
    month: str = "month"
    key: str = Field("channel", description="Column of the spend table naming the channel or segment.")
    spend: str = "spend"


class AcquisitionSpend(StrictModel):
    """CAC from data: acquisition spend per month per channel (or segment) divided by the
    customers acquired through it in the same months."""

    path: str
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

    path: str
    columns: CostColumns = CostColumns()
    customer_column: str = Field("segment", description="Customer attribute (or 'segment') matching the key column.")
    months: int = Field(12, ge=1, description="Trailing months before as_of used for the ratio.")


class EconomicsConfig(StrictModel):
    default: EconomicsValues = EconomicsValues()
    segments: dict[str, EconomicsValues] = Field(default_factory=dict)
    cac_from_spend: AcquisitionSpend | None = None
    support_cost_from: SupportCostTable | None = None


# --------------------------------------------------------------------------- scenarios

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
    cost_per_csm_per_year: float = Field(..., ge=0)
    churn_multiplier: float = Field(1.0, ge=0)
    expansion_multiplier: float = Field(1.0, ge=0)


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


class AcquisitionConfig(StrictModel):
    """New customers in the baseline projection."""

    new_customers_per_month: dict[str, Annotated[float, Field(ge=0)]] | None = Field(
        None,
        description="New customers per month by segment; segments left out use the average "
        "monthly signups of the 12 months before as_of (date-shaped books), else 0.",
    )


class SimulationConfig(StrictModel):
    replications: int = Field(1000, ge=1, description="Monte Carlo replications (one parameter draw each).")
    seed: int = Field(42, ge=0, description="Seed of every random draw; written into the results.")


class StatusThresholds(StrictModel):
    marginal_loss_probability: Fraction = Field(0.25, ge=0, le=1, description="P(unit profit < 0) above which a segment is marginal.")


# --------------------------------------------------------------------------- root


class Config(StrictModel):
    """A simcore run configuration."""

    name: str = "simcore"
    data: DataConfig
    segments: SegmentsConfig = SegmentsConfig()
    retention: RetentionConfig = RetentionConfig()
    economics: EconomicsConfig = EconomicsConfig()
    discount_rate_annual: Fraction = Field(0.10, gt=-1, description="Annual discount rate (per segment in economics).")
    horizon_months: int = Field(120, ge=1, le=600)
    simulation: SimulationConfig = SimulationConfig()
    acquisition: AcquisitionConfig = AcquisitionConfig()
    status: StatusThresholds = StatusThresholds()
    include: Annotated[list[str], BeforeValidator(_as_list, json_schema_input_type=Union[str, list[str]])] = Field(
        default_factory=list, description="Other YAML files whose `scenarios:` lists are added to this one."
    )
    scenarios: list[ScenarioConfig] = Field(default_factory=list)

    # Set by load_config, not by YAML: the folder relative paths are resolved against,
    # and where each scenario was written (file, line) for later messages.
    base_dir: Path = Field(default=Path("."), exclude=True)
    source: str = Field(default="<config>", exclude=True)
    scenario_origins: dict[str, tuple[str, int | None]] = Field(default_factory=dict, exclude=True)
    yaml_lines: dict[tuple, int] = Field(default_factory=dict, exclude=True, repr=False)

    def line_of(self, *path) -> int | None:
        """Line of a dotted path of the main config file (its deepest existing prefix)."""
        path = tuple(path)
        while path:
            if path in self.yaml_lines:
                return self.yaml_lines[path]
            path = path[:-1]
        return None

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate


# --------------------------------------------------------------------------- loading


_INTERNAL_FIELDS = ("base_dir", "source", "scenario_origins", "yaml_lines")


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
    return [name for name in fields if name not in _INTERNAL_FIELDS] if fields else []


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


class ScenarioFile(StrictModel):
    """A file named in ``include:``: more scenarios, and possibly further includes."""

    scenarios: list[ScenarioConfig] = Field(default_factory=list)
    include: Annotated[list[str], BeforeValidator(_as_list, json_schema_input_type=Union[str, list[str]])] = Field(default_factory=list)


def _validate(model: type[StrictModel], located: LocatedYaml, extra: dict, problems: list[Problem]):
    if not isinstance(located.data, dict):
        problems.append(Problem(
            "the top level must be a mapping (keys such as data:, segments:, scenarios:)",
            "", source=located.source, line=1,
        ))
        return None
    internal = [key for key in located.data if key in _INTERNAL_FIELDS]
    for key in internal:
        problems.append(Problem(f"unknown key '{key}'", "remove it", source=located.source, line=located.line_of((key,)), field=key))
    if internal:
        return None
    try:
        return model.model_validate({**located.data, **extra})
    except ValidationError as error:
        problems.extend(problems_from_validation(error, located, model))
        return None


def _located_scenarios(located: LocatedYaml, scenarios: list[ScenarioConfig]) -> list[tuple[ScenarioConfig, str, int | None]]:
    return [
        (scenario, located.source, located.line_of(("scenarios", index)))
        for index, scenario in enumerate(scenarios)
    ]


def _load_includes(
    includes: list[str], base_dir: Path, including: LocatedYaml, seen: set[Path], problems: list[Problem]
) -> list[tuple[ScenarioConfig, str, int | None]]:
    found: list[tuple[ScenarioConfig, str, int | None]] = []
    for index, name in enumerate(includes):
        path = (base_dir / Path(name).expanduser()).resolve()
        where = dict(source=including.source, line=including.line_of(("include", index)), field=f"include.{index}")
        if path in seen:
            problems.append(Problem(f"'{name}' is included more than once (or includes itself)", "include each file once", **where))
            continue
        seen.add(path)
        if not path.exists():
            problems.append(Problem(f"included file '{name}' not found", "paths are relative to the including file", **where))
            continue
        try:
            located = load_yaml(path)
        except ConfigError as error:
            problems.extend(error.problems)
            continue
        located = LocatedYaml(located.data, located.lines, name if not Path(name).is_absolute() else str(path))
        part = _validate(ScenarioFile, located, {}, problems)
        if part is None:
            continue
        found.extend(_located_scenarios(located, part.scenarios))
        found.extend(_load_includes(part.include, path.parent, located, seen, problems))
    return found


def _check_scenarios(entries: list[tuple[ScenarioConfig, str, int | None]], problems: list[Problem]) -> None:
    """Unique names, known ``extends`` targets, no circular ``extends``."""
    by_name: dict[str, tuple[ScenarioConfig, str, int | None]] = {}
    for scenario, source, line in entries:
        if scenario.name == BASELINE:
            problems.append(Problem(
                f"'{BASELINE}' is the run without levers and cannot be redefined",
                "give this scenario another name", source=source, line=line, field="scenarios.name",
            ))
        elif scenario.name in by_name:
            first = by_name[scenario.name]
            problems.append(Problem(
                f"scenario name '{scenario.name}' is used twice (first at {first[1]} line {first[2]})",
                "give every scenario its own name", source=source, line=line, field="scenarios.name",
            ))
        else:
            by_name[scenario.name] = (scenario, source, line)
    reported_cycles: set[frozenset] = set()
    for name, (scenario, source, line) in by_name.items():
        if scenario.extends is None:
            continue
        if scenario.extends not in by_name and scenario.extends != BASELINE:
            close = difflib.get_close_matches(scenario.extends, list(by_name), n=1)
            problems.append(Problem(
                f"scenario '{name}' extends unknown scenario '{scenario.extends}'",
                f"did you mean '{close[0]}'?" if close else f"known scenarios: {', '.join(by_name) or 'none'}",
                source=source, line=line, field="extends",
            ))
            continue
        chain = [name]
        current = scenario.extends
        while current in by_name and current not in chain:
            chain.append(current)
            current = by_name[current][0].extends
        if current == name and frozenset(chain) not in reported_cycles:
            reported_cycles.add(frozenset(chain))
            problems.append(Problem(
                f"circular extends: {' -> '.join(chain + [name])}",
                "remove one of the extends so the chain ends at the baseline",
                source=source, line=line, field="extends",
            ))


def validate_config_data(located: LocatedYaml, base_dir: Path) -> Config:
    """Validate parsed YAML against :class:`Config`, with its included scenario files,
    reporting every problem of every file at once."""
    problems: list[Problem] = []
    config = _validate(Config, located, {"base_dir": base_dir, "source": located.source}, problems)
    if config is None:
        raise ConfigError(problems)
    entries = _located_scenarios(located, config.scenarios)
    entries += _load_includes(config.include, base_dir, located, set(), problems)
    _check_scenarios(entries, problems)
    if problems:
        raise ConfigError(problems)
    return config.model_copy(update={
        "scenarios": [scenario for scenario, _, _ in entries],
        "scenario_origins": {scenario.name: (source, line) for scenario, source, line in entries},
        "yaml_lines": dict(located.lines),
    })


def json_schema() -> dict:
    """JSON Schema of the YAML config, for editors (yaml-language-server) and docs."""
    schema = Config.model_json_schema(mode="validation")
    for name in _INTERNAL_FIELDS:
        schema["properties"].pop(name, None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "simcore configuration"
    return schema


def load_config(path: str | Path) -> Config:
    """Read, parse and validate a YAML config file (and the files it includes)."""
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
        "customers": str(path),
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
    problems: list[Problem] = []
    for section, values in sections.items():
        values = {k: v for k, v in values.items() if v is not None}
        if values:
            current = getattr(config, section)
            try:
                updates[section] = type(current).model_validate({**current.model_dump(), **values})
            except ValidationError as error:
                for item in error.errors(include_url=False):
                    name = item["loc"][0] if item["loc"] else None
                    if name in values:
                        where, hint = f"--{str(name).replace('_', '-')}", "give the flag a valid value"
                    else:
                        where, hint = section, f"set it under '{section}:' in {config.source}, or drop the flag"
                    problems.append(Problem(item["msg"].removeprefix("Value error, "), hint, field=where))
    if problems:
        raise ConfigError(problems)
    return config.model_copy(update=updates) if updates else config
