"""The ``retention:`` section: how retention curves are fitted per segment."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from simcore.config.base import StrictModel


FAMILIES = (
    "auto", "kaplan_meier", "exponential", "weibull", "lognormal", "loglogistic",
    "generalized_gamma", "piecewise_exponential", "sbg",
)
ParametricFamily = Literal[
    "exponential", "weibull", "lognormal", "loglogistic", "generalized_gamma", "piecewise_exponential", "sbg"
]


class RetentionOverride(StrictModel):
    family: Literal[FAMILIES] | None = None  # type: ignore[valid-type]


class RetentionConfig(StrictModel):
    """How retention curves are fitted per segment."""

    family: Literal[FAMILIES] = Field("auto", description="A survival family, or auto to rank by the criterion.")  # type: ignore[valid-type]
    criterion: Literal["aic", "bic", "holdout"] = Field(
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
    uncertainty: Literal["asymptotic", "bootstrap"] = "asymptotic"
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
        return self
