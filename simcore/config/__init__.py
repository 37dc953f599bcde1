"""The validated, immutable run configuration (YAML -> pydantic v2 models).

Rules every section follows:

* unknown keys are errors, with a did-you-mean suggestion;
* every field that carries a unit names it (``horizon_months``, ``discount_rate_annual``);
* percentages are written ``"10%"`` or ``0.10`` and held as fractions;
* every error names the file, the line and the dotted path, and all errors in a file are
  reported in one go.

Paths inside a config are relative to the config file's folder. One module per section
(:mod:`~simcore.config.data`, :mod:`~simcore.config.segments`,
:mod:`~simcore.config.retention`, :mod:`~simcore.config.economics`,
:mod:`~simcore.config.scenarios`, :mod:`~simcore.config.cs_plan`, :mod:`~simcore.config.root`)
and the loader
(:mod:`~simcore.config.loading`); every public name is importable from here.
"""

from __future__ import annotations

from simcore.config.base import (  # noqa: F401
    Fraction,
    IsoDate,
    StrictModel,
    parse_fraction,
)
from simcore.config.data import (  # noqa: F401
    ColumnMap,
    DataConfig,
    HistoryColumns,
    HistorySource,
    SqlSource,
)
from simcore.config.segments import (  # noqa: F401
    BandRule,
    QuantileRule,
    SegmentRule,
    SegmentsConfig,
)
from simcore.config.retention import (  # noqa: F401
    FAMILIES,
    ParametricFamily,
    RetentionConfig,
    RetentionOverride,
)
from simcore.config.economics import (  # noqa: F401
    AcquisitionSpend,
    CostColumns,
    EconomicsConfig,
    EconomicsValues,
    SpendColumns,
    SupportCostTable,
)
from simcore.config.scenarios import (  # noqa: F401
    AppliesTo,
    BASELINE,
    CsCoverage,
    Discount,
    PriceChange,
    ScenarioConfig,
    ChangeList,
    ChangeWindow,
    ChurnElasticity,
    Elasticity,
    Window,
    WindowList,
)
from simcore.config.cs_plan import (  # noqa: F401
    ACCOUNT_CLASSES,
    ClassificationConfig,
    CsPlanConfig,
    OptimiserConfig,
    Tier,
    TierRule,
)
from simcore.config.root import (  # noqa: F401
    config_hash,
    AcquisitionConfig,
    Config,
    SimulationConfig,
    StatusThresholds,
)
from simcore.config.loading import (  # noqa: F401
    ScenarioFile,
    _INTERNAL_FIELDS,
    config_from_text,
    json_schema,
    load_config,
    problems_from_validation,
    validate_config_data,
    with_overrides,
)

__all__ = [
    "ACCOUNT_CLASSES",
    "AcquisitionConfig",
    "AcquisitionSpend",
    "AppliesTo",
    "BASELINE",
    "BandRule",
    "ClassificationConfig",
    "ColumnMap",
    "Config",
    "CostColumns",
    "ChangeList",
    "ChangeWindow",
    "ChurnElasticity",
    "CsCoverage",
    "Elasticity",
    "CsPlanConfig",
    "DataConfig",
    "Discount",
    "EconomicsConfig",
    "EconomicsValues",
    "FAMILIES",
    "Fraction",
    "HistoryColumns",
    "HistorySource",
    "IsoDate",
    "OptimiserConfig",
    "ParametricFamily",
    "PriceChange",
    "QuantileRule",
    "RetentionConfig",
    "RetentionOverride",
    "ScenarioConfig",
    "ScenarioFile",
    "SegmentRule",
    "SegmentsConfig",
    "SimulationConfig",
    "SpendColumns",
    "SqlSource",
    "StatusThresholds",
    "StrictModel",
    "SupportCostTable",
    "Tier",
    "TierRule",
    "Window",
    "WindowList",
    "config_from_text",
    "json_schema",
    "load_config",
    "parse_fraction",
    "problems_from_validation",
    "validate_config_data",
    "with_overrides",
]
