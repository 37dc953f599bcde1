"""The ``segments:`` section: rules that group customers into segments."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import BeforeValidator, Discriminator, Field, Tag, model_validator

from simcore.config.base import StrictModel, _as_list


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
