"""The ``retention:`` section: how retention curves are fitted per segment."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from simcore.config.base import StrictModel
from simcore.retention import names as _retention_names


# Every allowed name comes from the family registry's declarations (a pure-Python module,
# cheap to import), so the config, the CLI and `auto` name the same families.
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
    holdout_months: Annotated[int, Field(ge=1)] | Literal["auto"] | None = Field(
        "auto",
        description="Refit on what was known this many months before as_of and score the later months "
        "(date-shaped books); the scores are reported beside AIC/BIC and give the stacking weights. "
        "auto: 6 on date-shaped monthly books observed for 24 months or more, none otherwise; "
        "null: no holdout.",
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
    model_averaging: Literal[_retention_names.MODEL_AVERAGING_CHOICES] = Field(  # type: ignore[valid-type]
        _retention_names.DEFAULT_MODEL_AVERAGING,
        description="Mix families across replications: none (the chosen family only), akaike (by Akaike "
        "weight), stacking (by holdout log score; needs a holdout), tail_stacking (Akaike weights up to the "
        "last observed month, stacking weights beyond it) or auto (tail_stacking where the segment's "
        f"holdout saw {_retention_names.STACKING_MIN_HOLDOUT_CHURNS} churns or more, akaike otherwise).",
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
        if self.model_averaging in ("stacking", "tail_stacking") and self.holdout_months is None:
            raise ValueError(f"model_averaging {self.model_averaging!r} weighs families by holdout scores and "
                             "needs holdout_months (e.g. 6, or auto)")
        return self
